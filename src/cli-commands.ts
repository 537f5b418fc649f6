// The command line's commands: what src/cli.ts accepts, and what its launcher keeps a code cache for each of.
// A module of its own so that the launcher (src/cli-launch.ts) knows them without loading the command line.

export const COMMANDS: readonly string[] = ['scan', 'walker', 'show', 'stale', 'clean'];
