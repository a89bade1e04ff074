// The alert state machine: hysteresis, the hold time, one firing per subject, repeats, and keys
// that stay the same for one event so a resend can be told from a new alert.
import { describe, expect, it } from 'vitest';
import { emptyAlertsCore, evaluateAlerts, type AlertsCore, type SinkRef } from '../../../src/alerts/evaluate';
import { parseConfig } from '../../../src/config';
import type { Reading } from '../../../src/alerts/kinds';

const config = parseConfig(
  [
    'alerts:',
    '  sinks:',
    '    hook: { type: webhook, url: "http://127.0.0.1:1/hook" }',
    '    am: { type: alertmanager, url: "http://127.0.0.1:2", resendSeconds: 60 }',
    '  rules:',
    '    - { name: mem, kind: node-memory, above: 80, resolveBelow: 70, forSeconds: 30, repeatSeconds: 600 }',
    '',
  ].join('\n'),
  {},
);
const rules = config.alerts.rules;
const sinks: SinkRef[] = [
  { name: 'hook', type: 'webhook' },
  { name: 'am', type: 'alertmanager', resendSeconds: 60 },
];
const at = (value: number): Reading[] =>
  value >= 70 ? [{ subject: 'srv-px1', value, summary: `mem ${value}`, labels: { node: 'srv-px1' } }] : [];

function run(values: Array<[number, number]>) {
  let core: AlertsCore = emptyAlertsCore();
  const sent: Array<{ t: number; sink: string; event: string; key: string }> = [];
  for (const [t, value] of values) {
    const out = evaluateAlerts({
      core,
      cluster: 'pve',
      rules,
      sinks,
      readings: { mem: at(value) },
      now: t * 1000,
    });
    core = out.core;
    for (const d of out.deliveries)
      sent.push({ t, sink: d.sink, event: d.notification.event, key: d.notification.key });
  }
  return { core, sent };
}

describe('alert evaluation', () => {
  it('fires once the value held above the threshold for forSeconds, once per sink', () => {
    const { sent } = run([
      [0, 85],
      [20, 90],
      [30, 88],
      [40, 95],
    ]);
    expect(sent).toEqual([
      { t: 30, sink: 'hook', event: 'firing', key: 'pve/mem/srv-px1/30000/firing/hook' },
      { t: 30, sink: 'am', event: 'firing', key: 'pve/mem/srv-px1/30000/firing/am' },
    ]);
  });

  it('does not fire when the value dips below the threshold before forSeconds', () => {
    const { sent } = run([
      [0, 85],
      [20, 75],
      [40, 85],
      [60, 85],
    ]);
    expect(sent).toEqual([]);
  });

  it('keeps firing between resolveBelow and above (hysteresis), resolves below resolveBelow', () => {
    const { sent, core } = run([
      [0, 85],
      [30, 85],
      [40, 72],
      [50, 75],
      [60, 65],
    ]);
    expect(sent.filter((s) => s.sink === 'hook').map((s) => [s.t, s.event])).toEqual([
      [30, 'firing'],
      [60, 'resolved'],
    ]);
    expect(core.events.map((e) => [e.at, e.status])).toEqual([
      [30000, 'firing'],
      [60000, 'resolved'],
    ]);
    expect(core.rules.mem?.subjects).toEqual({});
  });

  it('repeats per sink: Alertmanager every resendSeconds, the webhook every repeatSeconds', () => {
    const values: Array<[number, number]> = [[0, 85]];
    for (let t = 30; t <= 660; t += 30) values.push([t, 85]);
    const { sent } = run(values);
    expect(sent.filter((s) => s.sink === 'hook').map((s) => [s.t, s.event])).toEqual([
      [30, 'firing'],
      [630, 'repeat'],
    ]);
    const am = sent.filter((s) => s.sink === 'am');
    expect(am[0]).toMatchObject({ t: 30, event: 'firing' });
    expect(am.slice(1).map((s) => s.t)).toEqual([90, 150, 210, 270, 330, 390, 450, 510, 570, 630]);
    expect(new Set(sent.map((s) => s.key)).size).toBe(sent.length);
  });

  it('a new firing after a resolve is a new alert with a new fingerprint', () => {
    const { sent } = run([
      [0, 85],
      [30, 85],
      [40, 50],
      [50, 90],
      [80, 90],
    ]);
    const hook = sent.filter((s) => s.sink === 'hook');
    expect(hook.map((s) => [s.t, s.event])).toEqual([
      [30, 'firing'],
      [40, 'resolved'],
      [80, 'firing'],
    ]);
    expect(hook[2]?.key).toBe('pve/mem/srv-px1/80000/firing/hook');
  });

  it('keeps the state of a rule whose facts could not be read', () => {
    const first = run([
      [0, 85],
      [30, 85],
    ]);
    const out = evaluateAlerts({ core: first.core, cluster: 'pve', rules, sinks, readings: {}, now: 60_000 });
    expect(out.deliveries).toEqual([]);
    expect(out.core.rules.mem?.subjects['srv-px1']?.firing).toBe(true);
  });
});
