import { PDFArray, PDFDict, type PDFDocument, PDFName, PDFNumber, PDFRef } from 'pdf-lib';

/**
 * Counts a document's pages by walking its page tree ourselves, before pdf-lib's own recursive walk
 * (`getPageCount`, `copyPages`) is trusted with it. A tree whose /Kids loop back on themselves makes naive walkers
 * recurse forever, and a /Count of billions makes renderers that believe it allocate for billions of pages; both
 * are refused here, along with a tree deeper or wider than any real document's.
 */
export type PageTreeReading =
  { kind: 'pages'; pages: number } | { kind: 'broken' } | { kind: 'too-complex'; detail: string };

export interface PageTreeLimits {
  /** Nodes visited, pages and intermediate nodes together. */
  maxNodes: number;
  /** Levels below the root. Real trees are a handful deep (balanced trees of 10–20 kids per node). */
  maxDepth: number;
  /** The largest /Count any node may declare. */
  maxCount: number;
}

export const DEFAULT_PAGE_TREE_LIMITS: PageTreeLimits = {
  maxNodes: 100_000,
  maxDepth: 64,
  maxCount: 100_000,
};

export function readPageTree(doc: PDFDocument, limits = DEFAULT_PAGE_TREE_LIMITS): PageTreeReading {
  try {
    return walk(doc, limits);
  } catch {
    // pdf-lib "loads" some garbage with no catalog at all; any failure to follow the tree means it is broken.
    return { kind: 'broken' };
  }
}

function walk(doc: PDFDocument, limits: PageTreeLimits): PageTreeReading {
  const rootRef = doc.catalog.get(PDFName.of('Pages'));
  const root = rootRef ? doc.context.lookup(rootRef) : undefined;
  if (!(root instanceof PDFDict)) return { kind: 'broken' };
  const seen = new Set<PDFDict>();
  const stack: Array<{ node: PDFDict; depth: number }> = [{ node: root, depth: 0 }];
  let pages = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (seen.has(node))
      return { kind: 'too-complex', detail: 'a page tree that repeats or loops back on itself' };
    seen.add(node);
    if (seen.size > limits.maxNodes)
      return { kind: 'too-complex', detail: 'a page tree with too many nodes' };
    if (depth > limits.maxDepth) return { kind: 'too-complex', detail: 'a page tree nested too deeply' };
    const count = node.get(PDFName.of('Count'));
    const declared = count instanceof PDFRef ? doc.context.lookup(count) : count;
    if (declared instanceof PDFNumber && Math.abs(declared.asNumber()) > limits.maxCount) {
      return { kind: 'too-complex', detail: `a page tree that claims ${declared.asNumber()} pages` };
    }
    const kidsEntry = node.get(PDFName.of('Kids'));
    const kids = kidsEntry instanceof PDFRef ? doc.context.lookup(kidsEntry) : kidsEntry;
    if (!(kids instanceof PDFArray)) {
      // No /Kids: a page (pdf-lib reads a node without /Kids as a page too, whatever its /Type says).
      pages += 1;
      continue;
    }
    for (let index = kids.size() - 1; index >= 0; index -= 1) {
      const kid = doc.context.lookup(kids.get(index));
      if (!(kid instanceof PDFDict)) return { kind: 'broken' };
      stack.push({ node: kid, depth: depth + 1 });
    }
  }
  return { kind: 'pages', pages };
}
