// README command lines, run by tests as the README shows them.
/**
 * A README command line as the CLI's arguments: `pve-autopilot node status` → ['node', 'status'],
 * `promtool check rules x.yml` → ['check', 'rules', 'x.yml'].
 * Tests run README lines through it, so the line is in the test as the README shows it.
 */
export function readmeArgs(line: string): string[] {
  const words = line.split(' ').filter((w) => w !== '');
  const start = words[0] === 'npx' ? 2 : 1;
  return words.slice(start);
}
