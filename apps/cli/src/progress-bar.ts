// One line that redraws in place on a terminal ("[#####-----]  50%  training"), or plain lines when
// the output is a pipe or a file so logs stay readable.
export class ProgressBar {
  private last = '';

  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean },
    private readonly width = 30,
  ) {}

  render(fraction: number, label: string): string {
    const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
    const filled = Math.round(f * this.width);
    return `[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${String(Math.round(f * 100)).padStart(3)}%  ${label}`;
  }

  update(fraction: number, label: string): void {
    const line = this.render(fraction, label);
    if (line === this.last) return;
    this.last = line;
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${line}`);
    else this.out.write(`${line}\n`);
  }

  /** Ends the redrawn line so the next output starts on its own. */
  done(): void {
    if (this.out.isTTY && this.last) this.out.write('\n');
    this.last = '';
  }
}
