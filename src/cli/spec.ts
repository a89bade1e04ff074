// The command table of pve-autopilot: every command, its arguments and options, and the words its
// --help prints. args.ts parses against it and help.ts renders it, so the two never disagree.

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** What the value looks like in help, e.g. NODE. */
  value?: string;
  short?: string;
  help: string;
}

export interface CommandSpec {
  /** "status", "migrate", "generator start"... */
  name: string;
  /** Positionals as help shows them, e.g. "<vmid> <name>". */
  args: string;
  /** How many positionals after the command words (max Infinity for a list). */
  positionals: { min: number; max: number };
  summary: string;
  options: Readonly<Record<string, OptionSpec>>;
  notes?: readonly string[];
}

export const globalOptions: Readonly<Record<string, OptionSpec>> = {
  config: {
    type: 'string',
    value: 'PATH',
    help: 'config file (default: $PVE_AUTOPILOT_CONFIG, else ./pve-autopilot.yaml)',
  },
  cluster: {
    type: 'string',
    value: 'NAME',
    help: 'the cluster to act on, when the config lists several under clusters:',
  },
  json: { type: 'boolean', help: 'machine-readable output: one JSON document on stdout' },
  help: { type: 'boolean', short: 'h', help: 'show help for the command and exit' },
};

const noWait: OptionSpec = {
  type: 'boolean',
  help: 'start the operation, print its workflow id and link, and return without waiting',
};

const sagaNotes = [
  'Checks the vmid (and node) against the cluster first: an unknown or unmanaged container starts nothing.',
  'Waits for the operation and shows its current step; Ctrl-C stops waiting, not the operation.',
];

const updateNote = (what: string) => [
  `Needs the ${what} workflow running and a worker polling its task queue.`,
];

export const commandSpecs: readonly CommandSpec[] = [
  {
    name: 'status',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'nodes and containers with CPU, memory and disk use, locks, and operations in flight',
    options: {},
    notes: [
      'Reads the cluster with one API call. When Temporal is unreachable it still prints the cluster,',
      'says operations are unknown, and exits 5.',
    ],
  },
  {
    name: 'generator start',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'start the load generator of this cluster (settings from the generator and container sections)',
    options: {
      seed: { type: 'string', value: 'N', help: 'seed of its random draws (default: a random one)' },
      max: {
        type: 'string',
        value: 'N',
        help: 'stop after creating N containers (default: run until stopped)',
      },
    },
  },
  {
    name: 'generator pause',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'stop creating containers until resumed',
    options: {},
    notes: [
      'Returns once a creation in progress has finished: after it, nothing more is created.',
      ...updateNote('generator'),
    ],
  },
  {
    name: 'generator resume',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'resume a paused generator',
    options: {},
    notes: updateNote('generator'),
  },
  {
    name: 'generator stop',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'finish the creation in progress, then end the generator',
    options: {},
    notes: updateNote('generator'),
  },
  {
    name: 'generator status',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'run state, counters and the last choices of the generator',
    options: {},
  },
  {
    name: 'manager start',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'start the cluster manager (monitoring cycles; settings from the manager section)',
    options: {
      automation: {
        type: 'string',
        value: 'off|recommend|auto',
        help: 'override manager.automation: recommend decides and waits for approval, auto acts',
      },
      seed: { type: 'string', value: 'N', help: 'seed of its random choices (default: a random one)' },
    },
  },
  {
    name: 'manager pause',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'pause the cluster manager until resumed',
    options: {},
    notes: updateNote('cluster manager'),
  },
  {
    name: 'manager resume',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'resume a paused manager',
    options: {},
    notes: updateNote('cluster manager'),
  },
  {
    name: 'manager stop',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'end the cluster manager',
    options: {},
    notes: updateNote('cluster manager'),
  },
  {
    name: 'manager status',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'run state, last observation and recent decisions (ids to approve)',
    options: {},
  },
  {
    name: 'manager approve',
    args: '[ID...]',
    positionals: { min: 0, max: Infinity },
    summary: 'approve recommended decisions by id (see manager status), or all of them',
    options: { all: { type: 'boolean', help: 'approve every recommended decision' } },
    notes: ['Exits 3 when an id given was not approved (unknown, or no longer recommended).'],
  },
  {
    name: 'manager set',
    args: 'thresholds KEY=VALUE... | automation LEVEL',
    positionals: { min: 2, max: 3 },
    summary: "change the running manager: the lab rule's thresholds, or the automation level",
    options: {
      rule: {
        type: 'string',
        value: 'NAME',
        help: "with automation: set this rule's level instead of the manager's (e.g. lab)",
      },
    },
    notes: [
      'thresholds takes migratePercent=N and/or dropPercent=N; automation takes off, recommend or auto.',
      'Validated by the manager as the config is: an unknown key or a bad value changes nothing (exit 3).',
      ...updateNote('cluster manager'),
    ],
  },
  {
    name: 'plan',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'dry run: one observation and one round of every enabled rule; prints the actions and why',
    options: {},
    notes: [
      'Uses the config as it is now, and the running manager’s cooldowns, rule states and operations',
      'in flight when it can ask it. Starts nothing.',
    ],
  },
  {
    name: 'suggest',
    args: '',
    positionals: { min: 0, max: 0 },
    summary:
      'the balance rule’s moves as suggestions: source, target, size, imbalance before/after, target memory',
    options: {},
    notes: [
      'One observation, the balance section of the config (or the running manager’s), its cooldowns and',
      'moves in flight when it can ask it; hold rounds are left out. Starts nothing.',
    ],
  },
  {
    name: 'autoscale status',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'per managed container: cores and memory now and the target, the window, cooldown left, and why',
    options: {},
    notes: [
      "From the running manager's autoscale state and last observation (no API call).",
      ...updateNote('cluster manager'),
    ],
  },
  {
    name: 'alerts',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'alerts firing now, recent fired/resolved events, and notifications waiting for a sink',
    options: {},
    notes: [
      "Asks the cluster's alerts workflow (alerts-<cluster>), which a worker starts when its config",
      'has alerts.rules. Needs a worker polling the task queue.',
    ],
  },
  {
    name: 'migrate',
    args: '<vmid>',
    positionals: { min: 1, max: 1 },
    summary: 'move a container to another node, in the run state it had',
    options: {
      to: { type: 'string', value: 'NODE', help: 'target node (required)' },
      mode: {
        type: 'string',
        value: 'offline|restart',
        help: 'offline (default): shutdown, move, start; restart: one PVE restart migration',
      },
      'no-wait': noWait,
    },
    notes: sagaNotes,
  },
  {
    name: 'scale',
    args: '<vmid>',
    positionals: { min: 1, max: 1 },
    summary: 'change cores, memory or swap of a container (at least one)',
    options: {
      cores: { type: 'string', value: 'N', help: 'CPU cores, 1 to 8192' },
      memory: { type: 'string', value: 'MiB', help: 'memory limit in MiB, 16 or more' },
      swap: { type: 'string', value: 'MiB', help: 'swap in MiB, 0 or more' },
      'no-wait': noWait,
    },
    notes: sagaNotes,
  },
  {
    name: 'snapshot',
    args: '<vmid> <name>',
    positionals: { min: 2, max: 2 },
    summary: 'take a snapshot of a container',
    options: { 'no-wait': noWait },
    notes: ['A name starts with a letter: letters, digits, _ and -, up to 40.', ...sagaNotes],
  },
  {
    name: 'rollback',
    args: '<vmid> <name>',
    positionals: { min: 2, max: 2 },
    summary: 'roll a container back to one of its snapshots',
    options: { 'no-wait': noWait },
    notes: sagaNotes,
  },
  {
    name: 'drop',
    args: '<vmid>',
    positionals: { min: 1, max: 1 },
    summary: 'stop or destroy a container',
    options: {
      mode: {
        type: 'string',
        value: 'stop|destroy',
        help: 'stop keeps the container, destroy removes it (default: lab.dropMode of the config)',
      },
      snapshot: { type: 'boolean', help: 'take a snapshot first (meaningful with --mode stop)' },
      'no-wait': noWait,
    },
    notes: sagaNotes,
  },
  {
    name: 'cancel',
    args: '<vmid|workflow-id>',
    positionals: { min: 1, max: 1 },
    summary: 'cancel the operation running on a container: it rolls back, and this waits for its end',
    options: { 'no-wait': noWait },
    notes: [
      'A vmid names its container operation (ct-<cluster>-<vmid>), a provision included.',
      'Prints the outcome with the usual exit codes: 1 when it rolled back, 0 when it finished first,',
      '4 when it could not roll back; 3 when no operation runs on that container.',
    ],
  },
  // ---- health-check and history ----
  {
    name: 'health-check',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'check config, Temporal, a worker, the Proxmox API and privileges, the manager; exit 0 or 1',
    options: {
      format: { type: 'string', value: 'text|json', help: 'json: one JSON document (as --json)' },
    },
    notes: [
      'Exits 0 when every check passes and 1 otherwise (a bad config included): for Docker and',
      'Kubernetes health checks. Each check has a status (ok, fail, skipped) and a message.',
    ],
  },
  {
    name: 'history',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: "past container operations from Temporal's visibility, newest first, with outcome and reason",
    options: {
      vmid: { type: 'string', value: 'N', help: 'only this container' },
      outcome: {
        type: 'string',
        value: 'OUTCOME',
        help: 'only succeeded, refused, rolled-back, needs-attention or running',
      },
      since: {
        type: 'string',
        value: 'WHEN',
        help: 'only runs started since: a duration (30m, 2h, 7d) or an ISO time',
      },
      limit: { type: 'string', value: 'N', help: 'at most N runs (default 50)' },
    },
  },
  // ---- node drain (maintenance) ----
  {
    name: 'node drain',
    args: '<node>',
    positionals: { min: 1, max: 1 },
    summary: 'maintenance: move every managed container off a node, K at a time; it then takes nothing',
    options: {
      parallel: { type: 'string', value: 'K', help: 'migrations at once, 1 to 32 (default 2)' },
      wait: { type: 'boolean', help: 'follow the evacuation to its end, with progress' },
    },
    notes: [
      'Starts the durable workflow drain-<cluster>-<node>: the manager and the generator place nothing',
      'on the node until node undrain. Targets are chosen by admission (room for memory and CPU).',
      'Lists the guests it leaves (containers outside the managed scope, virtual machines).',
      'With --wait: exit 0 once no managed container is left, 1 when some cannot move (the drain',
      'goes on and retries); Ctrl-C stops the waiting, not the drain.',
    ],
  },
  {
    name: 'node undrain',
    args: '<node>',
    positionals: { min: 1, max: 1 },
    summary: 'end the drain of a node: moves in flight finish, then it takes containers again',
    options: {},
    notes: ['Exits 3 when the node is not drained.'],
  },
  {
    name: 'node status',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'the drained nodes of the cluster and how far each drain is',
    options: {},
  },
  {
    name: 'config validate',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'check the config and print it with every default filled in (secrets masked)',
    options: {
      online: {
        type: 'boolean',
        help: 'also read the cluster: a zone or pin node it lacks is an error, a node in no zone a warning',
      },
    },
  },
  {
    name: 'spread check',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'for cron: one line per pool with members to migrate (exit 78), nothing when all are spread',
    options: {
      'exclude-pools': {
        type: 'string',
        value: 'a,b',
        help: 'pools to leave out, besides spread.excludePools of the config',
      },
    },
    notes: [
      'One observation (GET /cluster/resources); starts nothing. A pool is well spread when no migration',
      'its managed members could make (with room on the target) raises the zones, then the nodes, it',
      'uses, nor evens them out. Exit 78 (EX_CONFIG) when some pool has members to migrate, else 0.',
      '--json prints every group: zones and nodes used, skews, and the planned moves.',
    ],
  },
];

/** Command words that take an action word after them. */
export const commandGroups: Readonly<Record<string, string>> = {
  generator: 'the load generator: creates containers until the nodes fill up',
  manager: 'the cluster manager: observe, decide, act, verify in monitoring cycles',
  config: 'the configuration file',
  autoscale: 'vertical autoscaling: what the autoscale rule of the running manager thinks',
  node: 'node maintenance: drain a node of its managed containers, and undrain it',
  spread: 'spreading pools across nodes and failure zones',
};

export function specOf(name: string): CommandSpec | undefined {
  return commandSpecs.find((s) => s.name === name);
}

export function actionsOf(group: string): string[] {
  return commandSpecs
    .filter((s) => s.name.startsWith(`${group} `))
    .map((s) => s.name.slice(group.length + 1));
}
