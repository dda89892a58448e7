// Reports: report.json (schema), report.html, summary.md, junit.xml, the runs index, compare.
export * from '../model/guarantees.ts';
export * from './schema.ts';
export * from './thresholds.ts';
export * from './environment.ts';
export * from './build.ts';
export * from './charts.ts';
export { renderHtml, uplotSources } from './html.ts';
export { renderSummary } from './markdown.ts';
export { renderJunit } from './junit.ts';
export { listRuns, renderIndex, type RunEntry } from './index-page.ts';
export * from './write.ts';
export * from './compare.ts';
