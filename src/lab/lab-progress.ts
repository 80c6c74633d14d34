/**
 * Step-by-step progress of a lab command: `[ 1.23s] fabric namespace brl-demo-fab … done (12 ms)`.
 * Writes through a callback so the CLI sends it to stderr and tests can collect it.
 */
export class LabProgress {
  private readonly t0 = Date.now();
  constructor(private readonly write: (line: string) => void = () => undefined) {}

  note(text: string): void {
    this.write(`[${this.elapsed()}] ${text}`);
  }

  async step<T>(text: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      const v = await fn();
      this.write(`[${this.elapsed()}] ${text} ... done (${Date.now() - t} ms)`);
      return v;
    } catch (err) {
      this.write(`[${this.elapsed()}] ${text} ... FAILED`);
      throw err;
    }
  }

  private elapsed(): string {
    return `${((Date.now() - this.t0) / 1000).toFixed(2)}s`.padStart(7);
  }
}
