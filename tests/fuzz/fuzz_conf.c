/* fuzz_conf.c - libFuzzer target for the configuration reader: any file
 * either loads into validated values or yields a "file:line: message". */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024];
	struct conf *c;
	int fd;

	if (size > 65536)
		return 0;
	if ((fd = memfd_create("conf", 0)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c = conf_new();
	err[0] = '\0';
	if (conf_load_file(c, path, err, sizeof(err)) == -1 &&
	    strncmp(err, path, strlen(path)) != 0)
		abort();	/* every error names the file */
	conf_free(c);
	close(fd);
	return 0;
}
