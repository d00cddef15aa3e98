// confluent-kafka against an embedded broker (num.io.threads=1): the scenarios of test/tools/client-scenarios.ts.
import { confluentKafkaDriver } from '../tools/client-drivers.js';
import { clientScenarios } from '../tools/client-scenarios.js';

clientScenarios(confluentKafkaDriver, { 'num.io.threads': '1' });
