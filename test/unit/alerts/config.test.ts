// The alerts: section rejects what it cannot use, naming the field, and never shows a password.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, redactConfig } from '../../../src/config';

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a config error');
}

describe('alerts config', () => {
  it('fills in defaults for a rule and its resolve value below the threshold', () => {
    const config = parseConfig(
      'alerts:\n  sinks:\n    hook: { type: webhook, url: "http://x/hook" }\n  rules:\n    - { name: mem, kind: node-memory }\n',
      {},
    );
    expect(config.alerts.rules[0]).toMatchObject({
      name: 'mem',
      above: 90,
      forSeconds: 60,
      repeatSeconds: 0,
    });
  });

  it('names a bad kind, an unknown sink, and resolveBelow above the threshold', () => {
    expect(
      problems(
        [
          'alerts:',
          '  sinks:',
          '    hook: { type: webhook, url: "http://x/hook" }',
          '  rules:',
          '    - { name: a, kind: node-memory, sinks: [pager] }',
          '    - { name: b, kind: node-temperature }',
          '    - { name: c, kind: node-cpu, above: 50, resolveBelow: 60 }',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      expect.stringMatching(
        /^alerts\.rules\[1\]\.kind: expected a rule with kind node-cpu, .*got "node-temperature"$/,
      ),
      'alerts.rules[2].resolveBelow: expected at most above (50), got 60',
    ]);
    // Cross-field checks run once every field is valid, as elsewhere in the config.
    expect(
      problems(
        'alerts:\n  sinks:\n    hook: { type: webhook, url: "http://x/hook" }\n' +
          '  rules:\n    - { name: a, kind: node-memory, sinks: [pager] }\n',
      ),
    ).toEqual(['alerts.rules[0].sinks[0]: expected a sink defined under alerts.sinks (hook), got "pager"']);
  });

  it('rejects rules without any sink and a webhook without a URL', () => {
    expect(problems('alerts:\n  rules:\n    - { name: a, kind: node-disk }\n')).toEqual([
      'alerts.sinks: expected at least one sink when rules are given, got a mapping (the default)',
    ]);
    expect(problems('alerts:\n  sinks:\n    hook: { type: webhook, url: "ftp://x" }\n')).toEqual([
      'alerts.sinks.hook.url: expected an http:// or https:// URL, got "ftp://x"',
    ]);
  });

  it('hides webhook header values in the printed config', () => {
    const config = parseConfig(
      'alerts:\n  sinks:\n    hook: { type: webhook, url: "http://x/h", headers: { Authorization: "Bearer s3cr3t" } }\n',
      {},
    );
    expect(redactConfig(config).alerts.sinks.hook).toMatchObject({ headers: { Authorization: '***' } });
    expect(config.alerts.sinks.hook).toMatchObject({ headers: { Authorization: 'Bearer s3cr3t' } });
  });

  it('hides the SMTP password in errors and in the printed config', () => {
    const yaml = [
      'alerts:',
      '  sinks:',
      '    mail: { type: smtp, host: mx, from: a@b.c, to: [ops@b.c], password: hunter2 }',
      '',
    ].join('\n');
    expect(JSON.stringify(redactConfig(parseConfig(yaml, {})))).not.toContain('hunter2');
    const bad = problems(yaml.replace('from: a@b.c', 'from: a@b.c, port: 0').replace('hunter2', '7'));
    expect(bad.join('\n')).toContain('alerts.sinks.mail.port');
    expect(problems(yaml.replace('password: hunter2', 'password: 12')).join('\n')).not.toContain('12');
  });
});
