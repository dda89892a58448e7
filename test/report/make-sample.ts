// Writes a sample report from synthetic data under reports/ and screenshots its HTML:
//   npx node test/report/make-sample.ts [--pass]
// (a way to look at report.html as a person would, without running a scenario).
import path from 'node:path';
import { writeReport } from '../../harness/report/write.ts';
import { launchChromium } from './chromium.ts';
import { syntheticReport } from './synthetic.ts';

const pass = process.argv.includes('--pass');
const report = syntheticReport({ failLost: !pass, scenario: 'sample', startedAt: Date.now() - 65_000 });
const w = await writeReport(report);
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.goto(`file://${w.files.html}`);
  await page.waitForSelector('body[data-charts-rendered]');
  const shot = path.join(w.dir, 'screenshot.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`report:     ${w.files.html}`);
  console.log(`screenshot: ${shot}`);
  console.log(`index:      ${w.index}`);
} finally {
  await browser.close();
}
