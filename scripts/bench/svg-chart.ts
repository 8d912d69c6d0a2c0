import type { SeriesResult } from './results';

// bench-results/latest.svg: one row per latency series, every sample a dot (jittered so equal
// values stay visible), a box from p25 to p75 with the median marked, a tick at p90, and dashed
// lines at 2 × and 2.5 × the median of `node -e 0` (the ADD and DEL targets). Samples beyond the
// axis are drawn at its end in red. Plain SVG, no dependency.

const ROW = 34;
const LEFT = 190;
const RIGHT = 110;
const TOP = 48;
const WIDTH = 960;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (n: number) => n.toFixed(1);

/** An axis step of 1, 2 or 5 × 10^k giving about six ticks up to `max`. */
export function niceStep(max: number): number {
  const raw = max / 6;
  const base = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw) ?? 10 * base;
}

/** The chart of `series` as an SVG document; `title` goes on top. */
export function svgChart(series: readonly SeriesResult[], title: string): string {
  const floor = series.find((s) => s.name === 'node -e 0')?.stats.median ?? NaN;
  // The axis covers every p90 with room to spare; the long tail is clamped, not hidden.
  const axisMax = Math.max(...series.map((s) => s.stats.p90), 2.5 * floor) * 1.25;
  const step = niceStep(axisMax);
  const plotW = WIDTH - LEFT - RIGHT;
  const x = (v: number) => LEFT + (Math.min(v, axisMax) / axisMax) * plotW;
  const height = TOP + series.length * ROW + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="18" font-size="14">${esc(title)}</text>`,
  ];
  const bottom = TOP + series.length * ROW;
  for (let t = 0; t <= axisMax; t += step) {
    out.push(
      `<line x1="${f(x(t))}" y1="${TOP - 6}" x2="${f(x(t))}" y2="${bottom}" stroke="#ddd"/>`,
      `<text x="${f(x(t))}" y="${bottom + 16}" text-anchor="middle" fill="#444">${t}</text>`,
    );
  }
  out.push(`<text x="${LEFT + plotW / 2}" y="${bottom + 34}" text-anchor="middle">ms</text>`);
  // The two labels sit on either side of their lines, which are close together.
  for (const [factor, label, anchor] of [
    [2, 'ADD target 2 × node -e 0 ', 'end'],
    [2.5, ' DEL target 2.5 ×', 'start'],
  ] as const) {
    const at = f(x(factor * floor));
    out.push(
      `<line x1="${at}" y1="${TOP - 6}" x2="${at}" y2="${bottom}" stroke="#c60" stroke-dasharray="4 3"/>`,
      `<text x="${at}" y="${TOP - 10}" text-anchor="${anchor}" fill="#c60" font-size="10" xml:space="preserve">${label}</text>`,
    );
  }
  series.forEach((s, row) => {
    const mid = TOP + row * ROW + ROW / 2;
    const st = s.stats;
    out.push(
      `<text x="${LEFT - 8}" y="${mid + 4}" text-anchor="end">${esc(s.name)}</text>`,
      `<rect x="${f(x(st.p25))}" y="${mid - 9}" width="${f(Math.max(1, x(st.p75) - x(st.p25)))}" height="18" fill="#cde" stroke="#579"/>`,
      `<line x1="${f(x(st.median))}" y1="${mid - 11}" x2="${f(x(st.median))}" y2="${mid + 11}" stroke="#124" stroke-width="2"/>`,
      `<line x1="${f(x(st.p90))}" y1="${mid - 6}" x2="${f(x(st.p90))}" y2="${mid + 6}" stroke="#579" stroke-width="2"/>`,
      `<text x="${WIDTH - RIGHT + 8}" y="${mid + 4}">${f(st.median)} / ${f(st.p90)}</text>`,
    );
    s.samples.forEach((v, i) => {
      const jitter = (((i * 7919) % 13) / 12 - 0.5) * 14;
      const clamped = v > axisMax;
      out.push(
        `<circle cx="${f(x(v))}" cy="${f(mid + jitter)}" r="2" fill="${clamped ? '#c00' : '#000'}" fill-opacity="0.45"/>`,
      );
    });
  });
  out.push(
    `<text x="${WIDTH - RIGHT + 8}" y="${TOP - 10}" font-size="10" fill="#444">median / p90 ms</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
