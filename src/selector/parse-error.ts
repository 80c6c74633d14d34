/** A selector that cannot be parsed: says what is wrong and where (0-based offset into the input). */
export class SelectorParseError extends Error {
  /** 0-based character offset of the problem in the input. */
  readonly position: number;
  readonly input: string;
  /** The problem (same as `message`; the position is in `position`, not in the text). */
  readonly reason: string;
  constructor(reason: string, input: string, position: number) {
    super(reason);
    this.name = 'SelectorParseError';
    this.reason = reason;
    this.input = input;
    this.position = position;
  }

  /** `position 16: expected …`: how every message states a selector problem (0-based position). */
  describe(): string {
    return `position ${this.position}: ${this.reason}`;
  }

  /** The input on one line and a caret under the problem, for terminals. */
  pointer(): string {
    const line = this.input.replace(/[\r\n]/g, ' ');
    return `${line}\n${' '.repeat(Math.min(this.position, line.length))}^`;
  }
}
