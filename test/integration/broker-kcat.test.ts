// kcat against an embedded broker (num.io.threads=1): the scenarios of test/tools/client-scenarios.ts.
import { kcatDriver } from '../tools/client-drivers.js';
import { clientScenarios } from '../tools/client-scenarios.js';

clientScenarios(kcatDriver, { 'num.io.threads': '1' });
