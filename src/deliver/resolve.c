/*
 * resolve.c - resolve a destination's host and check every address.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "deliver/resolve.h"
#include "http/client.h"

#define HOST_MAX 253

static void
numeric(const struct sockaddr *sa, char out[RESOLVE_ADDR_MAX])
{
    out[0] = '\0';
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  RESOLVE_ADDR_MAX);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                  RESOLVE_ADDR_MAX);
    }
}

int
resolve_public(const char *host, int allow_private, char *addr, struct err *e)
{
    char name[HOST_MAX + 1];
    char shown[RESOLVE_ADDR_MAX];
    char first[RESOLVE_ADDR_MAX] = "";
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    const struct addrinfo *ai = NULL;
    size_t len = host != NULL ? strlen(host) : 0;
    int rc = 0;
    int grc = 0;

    if (addr != NULL) {
        addr[0] = '\0';
    }
    if (len > 1 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len > HOST_MAX) {
        return err_set(e, ERR_INVALID,
                       "the host is empty or longer than "
                       "%d bytes",
                       HOST_MAX);
    }
    memcpy(name, host, len);
    name[len] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    grc = getaddrinfo(name, NULL, &hints, &res);
    if (grc != 0) {
        return err_set(e, ERR_UPSTREAM, "the host %s does not resolve: %s",
                       name, gai_strerror(grc));
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
            continue;
        }
        if (first[0] == '\0') {
            numeric(ai->ai_addr, first);
        }
        if (!allow_private && hclient_addr_is_private(ai->ai_addr)) {
            numeric(ai->ai_addr, shown);
            rc = err_set(e, ERR_FORBIDDEN,
                         "the host %s resolves to %s, a loopback, private or "
                         "link-local address (allow them with [security] "
                         "allow_private_destinations)",
                         name, shown);
            goto out;
        }
    }
    if (first[0] == '\0') {
        rc = err_set(e, ERR_UPSTREAM, "the host %s has no IP address", name);
    } else if (addr != NULL) {
        memcpy(addr, first, sizeof(first));
    }
out:
    freeaddrinfo(res);
    return rc;
}
