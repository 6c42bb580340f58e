// Certificates for the TLS tests, made at run time with the openssl command-line tool in a
// fresh temporary directory (removed afterwards), so no key is ever committed: a CA, a leaf it
// signed for localhost / 127.0.0.1 / ::1, a self-signed certificate for localhost, and a leaf
// the CA signed whose validity ended in 2020.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace pw_test {

class test_pki {
 public:
  /// Makes the certificates with `openssl` (a path); ok() says whether every step worked.
  explicit test_pki(std::string openssl) : openssl_(std::move(openssl)) {
    char tmpl[] = "/tmp/pw-tls-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    ok_ = run("req -x509" + ec + "-keyout " + path("ca.key") + " -out " + path("ca.pem") +
              " -subj /CN=polarway-test-ca -days 2 -addext basicConstraints=critical,CA:TRUE"
              " -addext keyUsage=critical,keyCertSign") &&
          run("req -x509 -CA " + path("ca.pem") + " -CAkey " + path("ca.key") + ec + "-keyout " + path("leaf.key") +
              " -out " + path("leaf.pem") +
              " -subj /CN=localhost -days 2 -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1") &&
          run("req -x509" + ec + "-keyout " + path("self.key") + " -out " + path("self.pem") +
              " -subj /CN=localhost -days 2 -addext subjectAltName=DNS:localhost") &&
          make_expired();
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;
  ~test_pki() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  bool ok() const noexcept { return ok_; }
  std::string ca() const { return path("ca.pem"); }
  std::string leaf() const { return path("leaf.pem"); }
  std::string leaf_key() const { return path("leaf.key"); }
  std::string self_signed() const { return path("self.pem"); }
  std::string self_signed_key() const { return path("self.key"); }
  std::string expired() const { return path("expired.pem"); }
  std::string expired_key() const { return path("expired.key"); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  bool run(const std::string& args) const {
    const std::string cmd = openssl_ + " " + args + " >>" + path("openssl.log") + " 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  // `openssl ca` is the one command of OpenSSL 3.0 that sets arbitrary validity dates.
  bool make_expired() const {
    std::ofstream(path("ca.cnf")) << "[ca]\ndefault_ca = test\n[test]\ndatabase = " << path("index.txt")
                                  << "\nnew_certs_dir = " << dir_ << "\nserial = " << path("serial")
                                  << "\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\n"
                                     "[any]\ncommonName = supplied\n";
    std::ofstream(path("index.txt"));
    std::ofstream(path("serial")) << "01\n";
    return run("req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + path("expired.key") + " -out " +
               path("expired.csr") + " -subj /CN=localhost -addext subjectAltName=DNS:localhost") &&
           run("ca -batch -notext -config " + path("ca.cnf") + " -cert " + path("ca.pem") + " -keyfile " +
               path("ca.key") + " -in " + path("expired.csr") + " -out " + path("expired.pem") +
               " -startdate 20200101000000Z -enddate 20200102000000Z");
  }

  std::string openssl_;
  std::string dir_;
  bool ok_ = false;
};

}  // namespace pw_test
