/*
 * cli.h - the `ferry` command line.
 */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

/* Run the command in `argv`; returns the process exit status (0 success,
 * 1 failure, 2 usage error). `envp` is the environment. */
int cli_main(int argc, char **argv, char **envp);

#endif
