// Small text helpers shared by the job summary, the annotations and the local command.

import { isAbsolute, relative } from 'node:path'

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB']

/** `1536` → `1.5 KiB`; binary units, as `du -h` and the Actions cache UI count. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`
  let value = bytes
  let unit = -1
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${BYTE_UNITS[unit]}`
}

/** `850` → `850 ms`, `12345` → `12.3 s`, `125000` → `2 m 05 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  // 59.96 s would print as "60.0 s"; from there on it is a minute.
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`
  const totalSeconds = Math.round(ms / 1000)
  const minutes = Math.floor(totalSeconds / 60)
  const seconds = String(totalSeconds % 60).padStart(2, '0')
  return `${minutes} m ${seconds} s`
}

/** `75` → `75.0%`. */
export function formatPercent(value: number): string {
  return `${value.toFixed(1)}%`
}

// Characters that start HTML or GFM markup, written as numeric references: CommonMark treats
// references as literal text, so a file name like `a_b*c|d.go` or a message holding `<script>`
// shows as written and cannot break a table or inject markup.
const MARKUP_CHARACTERS = /[&<>"'`*_[\]|\\~#]/g

/** Escapes user-controlled text (file names, messages, test names) for the job summary. */
export function escapeText(text: string): string {
  return text.replace(MARKUP_CHARACTERS, c => `&#${c.charCodeAt(0)};`)
}

/** Escaped text for one table cell: newlines become `<br>` so a cell stays on one row. */
export function escapeCell(text: string): string {
  return escapeText(text.trim()).replace(/\r?\n/g, '<br>')
}

/** Escaped text inside `<code>`, which (unlike a backtick span) decodes references. */
export function code(text: string): string {
  return `<code>${escapeText(text)}</code>`
}

/** A GFM table; cells must already be escaped. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** `1` → `1 finding`, `2` → `2 findings`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`
}

/** A host path relative to the workspace when it lies inside it, as users know it from their checkout. */
export function displayPath(path: string, workspace: string | undefined): string {
  if (!workspace || !isAbsolute(path)) return path
  const inside = relative(workspace, path)
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path
}

/** Counts items per key, most frequent first (ties by key). */
export function countBy<T>(items: readonly T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}
