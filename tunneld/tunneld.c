/*
 * tunneld.c - the tunnel worker (relay on a public host, client next to the
 * registry).  This stage answers master's health checks and stops on request;
 * the tunnel itself comes with its own issue.
 */
#include "proc.h"
#include "worker.h"

static const struct worker_ops tunneld_ops = {
	.id = PROC_TUNNELD,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &tunneld_ops);
}
