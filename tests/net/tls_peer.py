"""An independent TLS peer (Python's ssl module) for tests/net/tls_test.cpp.

  tls_peer.py server CERT KEY
      Listens on a kernel-chosen loopback port and prints "PORT <n>"; accepts one connection,
      echoes every byte until the client's close_notify, answers it with its own, prints
      "SERVED <bytes>" and exits 0.
  tls_peer.py oversized CERT KEY
      As server, but after the handshake sends one line, then writes straight to the socket,
      under TLS, a record header claiming 65535 bytes (more than TLS allows) and some filler;
      waits for the client to hang up and prints "HUNG UP".
  tls_peer.py client PORT CA_FILE
      Connects to localhost:PORT trusting CA_FILE (host name checked), sends one line, expects
      it echoed, closes with close_notify (waiting for the server's) and prints "ECHOED <line>".
"""
import os
import socket
import ssl
import sys


def serve(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print("PORT", listener.getsockname()[1], flush=True)
        conn, _ = listener.accept()
        with ctx.wrap_socket(conn, server_side=True) as tls:
            total = 0
            while True:
                data = tls.recv(65536)
                if not data:  # the client's close_notify
                    break
                tls.sendall(data)
                total += len(data)
            tls.unwrap()
            print("SERVED", total, flush=True)


def send_oversized(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print("PORT", listener.getsockname()[1], flush=True)
        conn, _ = listener.accept()
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(b"before\n")
            os.write(tls.fileno(), b"\x17\x03\x03\xff\xff" + b"A" * 64)
            try:
                while os.read(tls.fileno(), 4096):
                    pass
            except OSError:
                pass
            print("HUNG UP", flush=True)


def connect(port, ca_file):
    ctx = ssl.create_default_context(cafile=ca_file)
    line = b"hello from python\n"
    with socket.create_connection(("127.0.0.1", int(port))) as conn:
        with ctx.wrap_socket(conn, server_hostname="localhost") as tls:
            tls.sendall(line)
            got = b""
            while not got.endswith(b"\n"):
                data = tls.recv(1024)
                if not data:
                    break
                got += data
            if got != line:
                print("MISMATCH", got, flush=True)
                sys.exit(1)
            tls.unwrap()
            print("ECHOED", got.decode().strip(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "oversized":
        send_oversized(sys.argv[2], sys.argv[3])
    else:
        connect(sys.argv[2], sys.argv[3])
