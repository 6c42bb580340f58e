# Conan 2 recipe: polarway's headers as a header-only package.
#   conan create . -s compiler.cppstd=20
# liburing comes from the system and is declared as a system library, not as a Conan requirement,
# so that creating and consuming the package needs no remote: ConanCenter is not assumed
# reachable. The version is CMake's project(VERSION), read from CMakeLists.txt, so the two agree.
# The option with_tls (off by default) adds the component polarway::tls (net/tls.hpp), which
# requires Conan's openssl 3; the core component never depends on it.
from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
import os
import re


class PolarwayConan(ConanFile):
    name = "polarway"
    license = "MIT"
    description = "Header-only C++20 coroutine runtime for Linux: work stealing, io_uring, errors as values"
    topics = ("coroutines", "async", "io_uring", "runtime", "header-only")
    settings = "os", "arch", "compiler", "build_type"
    package_type = "header-library"
    options = {"with_tls": [True, False]}
    default_options = {"with_tls": False}
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        cmakelists = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        match = re.search(r"project\(polarway\s+VERSION\s+([0-9.]+)", cmakelists)
        if not match:
            raise ConanException("CMakeLists.txt has no project(polarway VERSION ...)")
        self.version = match.group(1)

    def requirements(self):
        if self.options.with_tls:
            self.requires("openssl/[>=3 <4]")

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "polarway")
        self.cpp_info.set_property("pkg_config_name", "polarway")
        if not self.options.with_tls:
            self.cpp_info.bindirs = []
            self.cpp_info.libdirs = []
            self.cpp_info.system_libs = ["uring", "pthread"]
            self.cpp_info.set_property("cmake_target_name", "polarway::polarway")
            return
        core = self.cpp_info.components["core"]
        core.bindirs = []
        core.libdirs = []
        core.system_libs = ["uring", "pthread"]
        core.set_property("cmake_target_name", "polarway::polarway")
        tls = self.cpp_info.components["tls"]
        tls.bindirs = []
        tls.libdirs = []
        tls.requires = ["core", "openssl::ssl", "openssl::crypto"]
        tls.set_property("cmake_target_name", "polarway::tls")
