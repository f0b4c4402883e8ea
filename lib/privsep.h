/* privsep.h - dropping into a worker's user and chroot for good. */
#ifndef RM_PRIVSEP_H
#define RM_PRIVSEP_H

/* As root: chroot to dir (if not NULL), take user's uid/gid plus the primary
 * group of group_of (if not NULL) as the only supplementary group, forbid new
 * privileges, and verify none can be regained.  Not root: only chdir to dir
 * and say once that privileges stay as they are.  Fatal on any failure. */
void	priv_drop(const char *user, const char *dir, const char *group_of);
int	priv_is_root(void);

#endif
