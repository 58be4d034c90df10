/**
 * Server-Sent Events frames of the live debugger (text/event-stream): every `data` is one line
 * of JSON (JSON.stringify never writes a raw newline), so a frame needs no splitting.
 */
export const SSE_PING = ': ping\n\n';

export function sseFrame(event: string, data: string, id?: string): string {
  return `${id === undefined ? '' : `id: ${sseId(id)}\n`}event: ${event}\ndata: ${data}\n\n`;
}

/** An SSE field value ends at CR or LF; a messageId holding one must not split the frame (nor may NUL reach the client's lastEventId). */
function sseId(id: string): string {
  return /[\r\n\0]/.test(id) ? id.replace(/[\r\n\0]/g, ' ') : id;
}

/** The `data` of one live event: what a listener receives (and what one api publishes to the others). */
export interface LiveEventData {
  messageId: string;
  type: string;
  name: string | null;
  receivedAt: string;
  payload: Record<string, unknown>;
}
