// Every scenario by name. Add one: a file here exporting a Scenario, then a line below.
import type { Scenario } from '../lib/scenario.js';
import { c10k } from './c10k.js';
import { smoke } from './smoke.js';
import { soak } from './soak.js';
import { spike } from './spike.js';
import { steady } from './steady.js';
import { stress } from './stress.js';

export const scenarios: Readonly<Record<string, Scenario>> = { smoke, steady, stress, spike, soak, c10k };
