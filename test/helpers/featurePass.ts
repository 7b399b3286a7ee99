/** The feature-page pass over an analysis's whole activation file, as the panels' worker would give it. */
import type { Analysis } from '../../src/views/sparsePass';
import { featurePass } from '../../src/views/featurePass';
import { pageData } from '../../src/views/featurePage';
import type { FeaturePassData } from '../../src/views/featurePage';

export function passOf(a: Analysis): FeaturePassData {
  const run = featurePass(a.sae, a.sample.path);
  return pageData(a.sae, run.stats, run.source);
}
