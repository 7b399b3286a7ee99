/** The feature-page pass over an analysis's whole activation file, as the panels' worker would give it. */
import type { Analysis } from '../../src/report/analyze';
import { featurePass } from '../../src/report/featurePass';
import { pageData } from '../../src/report/featurePage';
import type { FeaturePassData } from '../../src/report/featurePage';

export function passOf(a: Analysis): FeaturePassData {
  const run = featurePass(a.sae, a.sample.path);
  return pageData(a.sae, run.stats, run.source);
}
