/*
 * main.c - ferry: a self-hosted health data connection server.
 */
#include "cli/cli.h"

extern char **environ;

int
main(int argc, char **argv)
{
    return cli_main(argc, argv, environ);
}
