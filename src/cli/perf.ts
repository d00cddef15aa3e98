// `fjord perf produce|consume|e2e [options]` and `fjord perf compare A.json B.json`: the load-testing
// harness (src/perf). Progress goes to stderr so `--json` output on stdout stays machine-readable.
import { readFile } from 'node:fs/promises';
import { formatCompare, formatSummary, parseResult } from '../perf/format.js';
import { PERF_USAGE, parsePerfArgs, PerfUsageError } from '../perf/options.js';
import { writeReport } from '../perf/report.js';
import { runPerf } from '../perf/run.js';

export async function perf(args: string[]): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args.includes('--help')) {
    console.log(PERF_USAGE);
    return args.length === 0 ? 1 : 0;
  }
  if (args[0] === 'compare') {
    if (args.length !== 3) {
      console.error(`fjord perf compare: needs two result files (from --json or --report)\n\n${PERF_USAGE}`);
      return 1;
    }
    try {
      const [a, b] = await Promise.all(
        args.slice(1).map(async (f) => parseResult(await readFile(f, 'utf8'), f)),
      );
      console.log(formatCompare(a!, b!, args[1], args[2]));
      return 0;
    } catch (error) {
      console.error(`fjord perf compare: ${(error as Error).message}`);
      return 1;
    }
  }
  let options;
  try {
    options = parsePerfArgs(args);
  } catch (error) {
    if (error instanceof PerfUsageError) {
      console.error(`fjord perf: ${error.message}\n\n${PERF_USAGE}`);
      return 1;
    }
    throw error;
  }
  let result;
  try {
    result = await runPerf(options);
  } catch (error) {
    console.error(`fjord perf: ${(error as Error).message}`);
    return 1;
  }
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatSummary(result));
  if (options.report !== null) {
    const html = await writeReport(options.report, result);
    console.error(`report: ${html}`);
  }
  if (result.status === 'fatal') {
    if (options.json) console.error(`fjord perf: ${result.fatal}`);
    return 1;
  }
  return result.status === 'errors' ? 3 : 0;
}
