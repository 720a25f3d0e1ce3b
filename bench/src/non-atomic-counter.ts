import { type FileHandle, open, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const WIDTH = 16;

/**
 * A counter in a file, incremented by read, pause, write: deliberately NOT atomic. Several
 * processes incrementing it without mutual exclusion overwrite each other's updates, so a final
 * value below the number of acquisitions proves two holders overlapped.
 *
 * @example
 * await NonAtomicCounter.create(path);
 * const counter = await NonAtomicCounter.open(path);
 * await counter.increment(5); // holds 5 ms between read and write
 */
export class NonAtomicCounter {
  readonly #file: FileHandle;
  readonly #buffer = Buffer.alloc(WIDTH);

  private constructor(file: FileHandle) {
    this.#file = file;
  }

  static async create(path: string): Promise<void> {
    await writeFile(path, format(0));
  }

  static async open(path: string): Promise<NonAtomicCounter> {
    return new NonAtomicCounter(await open(path, 'r+'));
  }

  static async read(path: string): Promise<number> {
    const counter = await NonAtomicCounter.open(path);
    try {
      return await counter.read();
    } finally {
      await counter.close();
    }
  }

  async read(): Promise<number> {
    await this.#file.read(this.#buffer, 0, WIDTH, 0);
    return Number(this.#buffer.toString('utf8').trim());
  }

  /** Read, hold for `holdMs` (the critical section), write back plus one. */
  async increment(holdMs: number): Promise<void> {
    const value = await this.read();
    if (holdMs > 0) await sleep(holdMs);
    await this.#file.write(format(value + 1), 0, 'utf8');
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}

function format(value: number): string {
  return String(value).padStart(WIDTH, ' ');
}
