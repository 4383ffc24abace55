/** A fax resolution Telnyx accepts in POST /faxes `quality`. */
export type FaxQuality = 'normal' | 'high' | 'very_high' | 'ultra_light' | 'ultra_dark';

export interface SubjectTags {
  /** true for [cover], false for [nocover], null when the subject says neither. */
  cover: boolean | null;
  /** [fine] asks for very_high; [photo] for ultra_light, which Telnyx recommends for pictures. */
  quality: FaxQuality | null;
  /** The subject as shown on the cover page and in receipts: tags removed, spaces tidied. */
  shown: string;
}

const TAG = /\[(cover|nocover|fine|photo)\]/gi;

/**
 * Reads the tags a sender may put anywhere in the Subject, in any case. When both [cover] and [nocover] appear,
 * [nocover] wins (leaving out a page is the safer reading of a contradiction); when both [fine] and [photo]
 * appear, the first one written wins.
 */
export function parseSubjectTags(subject: string | null | undefined): SubjectTags {
  const text = subject ?? '';
  let cover: boolean | null = null;
  let quality: FaxQuality | null = null;
  for (const match of text.matchAll(TAG)) {
    const tag = match[1]!.toLowerCase();
    if (tag === 'nocover') cover = false;
    else if (tag === 'cover') cover = cover ?? true;
    else quality ??= tag === 'fine' ? 'very_high' : 'ultra_light';
  }
  const shown = text.replace(TAG, ' ').replace(/\s+/g, ' ').trim();
  return { cover, quality, shown };
}

/** The quality for POST /faxes: the subject's tag, else the sender's entry, else the configured default. */
export function chooseQuality(
  tags: SubjectTags,
  senderQuality: FaxQuality | undefined,
  configured: FaxQuality,
): FaxQuality {
  return tags.quality ?? senderQuality ?? configured;
}

/** Whether the fax gets a cover page: the subject's tag, else the sender's entry, else `cover.default`. */
export function wantsCover(
  tags: SubjectTags,
  senderCover: boolean | undefined,
  configured: boolean,
): boolean {
  return tags.cover ?? senderCover ?? configured;
}
