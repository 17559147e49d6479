// original_destination: reads a redirected TCP connection's original destination (SO_ORIGINAL_DST) for Node.
//
// Only Node-API (napi_*) calls are used, so one build loads in every Node version with Node-API 8 or later.
//
// originalDestination(fd: number) -> { address: string, port: number, family: 4 | 6 } | number
//   The object is the destination netfilter's conntrack recorded for the connection before any NAT (iptables
//   REDIRECT/DNAT). A number is the errno of the failed lookup (ENOENT: conntrack has no entry for the connection,
//   ENOPROTOOPT: conntrack is not loaded, ENOTCONN, EBADF, ENOTSOCK...); these are answers, not exceptions.
//   Only a non-number argument throws (a TypeError).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

// linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h define these; spelled out to avoid kernel headers.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#ifndef SOL_IP
#define SOL_IP IPPROTO_IP
#endif
#ifndef SOL_IPV6
#define SOL_IPV6 IPPROTO_IPV6
#endif

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)

static napi_value make_errno(napi_env env, int code) {
  napi_value result;
  CHECK(napi_create_int32(env, code, &result));
  return result;
}

static napi_value make_destination(napi_env env, const char *address, int port, int family) {
  napi_value result, value;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, result, "address", value));
  CHECK(napi_create_int32(env, port, &value));
  CHECK(napi_set_named_property(env, result, "port", value));
  CHECK(napi_create_int32(env, family, &value));
  CHECK(napi_set_named_property(env, result, "family", value));
  return result;
}

// IPv4 conntrack: a socket of family AF_INET, or an AF_INET6 socket carrying IPv4 (a v4-mapped local address).
static napi_value ipv4_destination(napi_env env, int fd) {
  struct sockaddr_in dst;
  socklen_t len = sizeof(dst);
  memset(&dst, 0, sizeof(dst));
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0) return make_errno(env, errno);
  char text[INET_ADDRSTRLEN];
  if (inet_ntop(AF_INET, &dst.sin_addr, text, sizeof(text)) == NULL) return make_errno(env, errno);
  return make_destination(env, text, ntohs(dst.sin_port), 4);
}

static napi_value ipv6_destination(napi_env env, int fd) {
  struct sockaddr_in6 dst;
  socklen_t len = sizeof(dst);
  memset(&dst, 0, sizeof(dst));
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len) != 0) return make_errno(env, errno);
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof(text)) == NULL) return make_errno(env, errno);
  return make_destination(env, text, ntohs(dst.sin6_port), 6);
}

static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype type = napi_undefined;
  if (argc >= 1) CHECK(napi_typeof(env, argv[0], &type));
  if (type != napi_number) {
    napi_throw_type_error(env, NULL, "originalDestination(fd): fd must be a file descriptor number");
    return NULL;
  }
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (fd < 0) return make_errno(env, EBADF);

  struct sockaddr_storage local;
  socklen_t len = sizeof(local);
  memset(&local, 0, sizeof(local));
  if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) return make_errno(env, errno);
  if (local.ss_family == AF_INET) return ipv4_destination(env, fd);
  if (local.ss_family == AF_INET6) {
    const struct sockaddr_in6 *local6 = (const struct sockaddr_in6 *)&local;
    return IN6_IS_ADDR_V4MAPPED(&local6->sin6_addr) ? ipv4_destination(env, fd) : ipv6_destination(env, fd);
  }
  return make_errno(env, EAFNOSUPPORT);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "originalDestination", fn));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
