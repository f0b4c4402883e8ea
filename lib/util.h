/* util.h - small helpers every process uses: checked allocation and strings. */
#ifndef RM_UTIL_H
#define RM_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 fd_set_nonblock(int fd);
int	 fd_set_cloexec(int fd, int on);
uint64_t now_ms(void);		/* monotonic milliseconds */
int	 parse_u64(const char *s, uint64_t max, uint64_t *out);
int	 str_copy(char *dst, const char *src, size_t dstsize);
/* path below dir (both absolute and normalized, as conf makes them): the
 * part after dir and its '/', else NULL. */
const char *path_below(const char *path, const char *dir);

/* 1 if entry de of directory d is a directory (not a symlink to one),
 * asking the filesystem when readdir did not say. */
int	 dirent_is_dir(DIR *d, const struct dirent *de);

struct sockaddr;
/* "address:port" ("[v6]:port") of an AF_INET or AF_INET6 address; -1 if
 * it is neither or out is too short. */
int	 addr_format(const struct sockaddr *, char *out, size_t len);
struct sockaddr_storage;
/* The inverse: a numeric "address:port" or "[v6]:port" into ss; -1 if it
 * is not one. */
int	 addr_parse(const char *, struct sockaddr_storage *ss);

/* The name a per-address limit counts host (an address without port)
 * under: itself, but an IPv6 address by its /64 (one host usually holds a
 * whole /64: counting per /128 would give it 2^64 fresh counters).  Into
 * net (INET6_ADDRSTRLEN bytes), or host itself when it is no IPv6. */
const char *addr_count_key(const char *host, char *net);

/* A sealed, read-only-in-effect memfd holding len bytes of p, positioned
 * at 0 (an answer too large for one message); -1 with errno. */
int	 memfd_with(const char *name, const void *p, size_t len);

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#endif
