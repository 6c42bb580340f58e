// TLS for polarway, on OpenSSL 3: tls_config, tls_stream and tls_error. Optional and not part
// of the umbrella header runtime.hpp: include this header and link the CMake target
// polarway::tls (which brings OpenSSL::SSL and OpenSSL::Crypto).
#pragma once

#include "polarway/net/tls_config.hpp"
#include "polarway/net/tls_error.hpp"
#include "polarway/net/tls_stream.hpp"
