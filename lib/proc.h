/* proc.h - the processes of regmaster: identities, and the common worker start. */
#ifndef RM_PROC_H
#define RM_PROC_H

enum proc_id {
	PROC_MASTER = 0,
	PROC_HTTPD,
	PROC_STORAGED,
	PROC_AUTHD,
	PROC_TUNNELD,
	PROC_GCD,
	PROC_MAX
};

/* Descriptor a worker finds its control channel to master on. */
#define PROC_CONTROL_FD	3

const char *proc_name(int id);
int	 proc_lookup(const char *name);

#endif
