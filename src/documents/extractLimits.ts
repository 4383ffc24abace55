/** How far MIME parsing may go into a message: in its own file so mimeLimits and extractDocuments share it. */
export interface ExtractLimits {
  /** How many levels of attached (forwarded) messages are opened. */
  maxDepth: number;
  /** Attachments over the message and all the messages it forwards (MIME nodes per message: 4× this + 16). */
  maxParts: number;
  /** Bytes of header per MIME part (mailparser's maxHeadSize). */
  maxHeaderSize: number;
}
