/**
 * Server-sent events over fetch, for streams that need the Authorization header (EventSource
 * cannot send one). Calls `onEvent` per event; resolves when the stream ends, rejects when it
 * cannot open or breaks.
 */
export async function readEventStream(response: Response, onEvent: (event: string, data: string) => void, signal: AbortSignal): Promise<void> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener('abort', () => reader.cancel().catch(() => undefined));
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(event, data.join('\n'));
      end = buffer.indexOf('\n\n');
    }
  }
}
