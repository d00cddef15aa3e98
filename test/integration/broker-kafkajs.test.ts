// kafkajs against an embedded broker (num.io.threads=2): the scenarios of test/tools/client-scenarios.ts.
import { kafkajsDriver } from '../tools/client-drivers.js';
import { clientScenarios } from '../tools/client-scenarios.js';

clientScenarios(kafkajsDriver, { 'num.io.threads': '2' });
