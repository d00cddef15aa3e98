// kafka-python against an embedded broker (num.io.threads=2): the scenarios of test/tools/client-scenarios.ts.
import { kafkaPythonDriver } from '../tools/client-drivers.js';
import { clientScenarios } from '../tools/client-scenarios.js';

clientScenarios(kafkaPythonDriver, { 'num.io.threads': '2' });
