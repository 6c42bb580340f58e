// Which sanitizer the code is compiled under, for the few places that must differ: the frame
// pool is bypassed under ASan (so it still catches use-after-free of frames), and atomics use
// fence-free equivalents under TSan (which does not model fences, and g++ refuses them there).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define POLARWAY_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define POLARWAY_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(POLARWAY_ASAN)
#define POLARWAY_ASAN 1
#endif
#if __has_feature(thread_sanitizer) && !defined(POLARWAY_TSAN)
#define POLARWAY_TSAN 1
#endif
#endif
#ifndef POLARWAY_ASAN
#define POLARWAY_ASAN 0
#endif
#ifndef POLARWAY_TSAN
#define POLARWAY_TSAN 0
#endif
