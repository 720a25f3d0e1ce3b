import type { Socket } from 'node:net';

/**
 * Call `onMessage` with each newline-terminated JSON value `socket` receives (the register's wire
 * format: one JSON object per line, UTF-8).
 *
 * @example
 * readJsonLines(socket, (message) => handle(message));
 */
export function readJsonLines(socket: Socket, onMessage: (message: unknown) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffered += text;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== '') onMessage(JSON.parse(line));
    }
  });
}

/**
 * Send one JSON value as a line.
 *
 * @example
 * writeJsonLine(socket, { id: 1, op: 'read', key: 'k' });
 */
export function writeJsonLine(socket: Socket, message: unknown): void {
  socket.write(`${JSON.stringify(message)}\n`);
}
