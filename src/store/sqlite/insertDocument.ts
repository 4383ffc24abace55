/** One document row; both sent faxes (intake) and received ones (inbound) store theirs with this statement. */
export const INSERT_DOCUMENT_SQL = `INSERT INTO documents (id, storage_key, sha256, size, pages, filename, created_at)
  VALUES (@id, @storage_key, @sha256, @size, @pages, @filename, @created_at)`;
