/* httpd.h - what httpd's files share: the links to its peers. */
#ifndef RM_HTTPD_H
#define RM_HTTPD_H

#include "link.h"

struct link *httpd_storaged(void);	/* NULL while storaged is down */
struct link *httpd_authd(void);

#endif
