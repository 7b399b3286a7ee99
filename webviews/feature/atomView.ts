/**
 * The "Atom" section of a feature page: the unit decoder direction as a strip over the input dimensions
 * (blue negative, red positive, one cell per dimension), its largest components, the encoder/decoder
 * cosine, and the sample inputs nearest to the atom by cosine.
 */
import { interpolateRdBu, select } from 'd3';
import type { AtomView } from '../../src/protocol/viewModels';
import { facts, h, section, tokenText } from '../shared/dom';
import { fmt } from '../shared/format';

export function atomSection(a: AtomView): HTMLElement {
  const d = a.decoder.length;
  const maxAbs = a.decoder.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  const fig = h('figure', 'atom-strip');
  const width = 720, height = 28;
  const svg = select(fig).append('svg').attr('viewBox', `0 0 ${width} ${height}`).attr('preserveAspectRatio', 'none')
    .attr('role', 'img').attr('aria-label', `decoder direction over ${d} input dimensions`);
  const w = width / d;
  svg.selectAll('rect').data(Array.from(a.decoder)).join('rect')
    .attr('x', (_, i) => i * w).attr('y', 0).attr('width', Math.max(w, 0.5)).attr('height', height)
    .attr('fill', (v) => interpolateRdBu(0.5 - v / maxAbs / 2))
    .append('title').text((v, i) => `dim ${i}: ${fmt(v)}`);
  fig.append(h('figcaption', 'muted', `unit decoder direction over ${d} input dimensions (blue negative, red positive; ±${fmt(maxAbs)} at full colour)`));
  const nearest = a.nearestInputs.length
    ? h('ol', 'atom-nearest', ...a.nearestInputs.map((n) => h('li', '', `row ${n.row}`, n.token !== undefined ? h('span', 'tok', tokenText(n.token)) : null, h('span', 'muted', ` cos ${fmt(n.cosine)}`))))
    : h('p', 'muted', 'Not defined for transcoders (the atom lives in the output space, the inputs in the input space).');
  return section('Atom', fig, facts([
    ['largest components', a.top.map((t) => `dim ${t.dim}: ${fmt(t.value)}`).join(', ')],
    ['encoder · decoder cosine', Number.isNaN(a.encoderDecoderCos) ? '— (transcoder)' : `${fmt(a.encoderDecoderCos)}${a.encoderDecoderCos < 0.5 ? ' (the encoder reads a different direction than the atom writes: it is cancelling interference)' : ''}`],
  ]), h('h3', '', 'Inputs nearest to the atom (cosine of x − b_dec)'), nearest);
}
