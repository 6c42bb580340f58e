# Conan 2 recipe: polarway as a header-only library that requires liburing.
#   conan create . --build=missing
from conan import ConanFile
from conan.tools.files import copy
from conan.tools.build import check_min_cppstd
import os


class PolarwayConan(ConanFile):
    name = "polarway"
    version = "0.1.0"
    license = "MIT"
    description = "Header-only C++20 coroutine runtime for Linux: work stealing, io_uring, errors as values"
    topics = ("coroutines", "async", "io_uring", "runtime", "header-only")
    settings = "os", "arch", "compiler", "build_type"
    package_type = "header-library"
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def requirements(self):
        self.requires("liburing/2.3")

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.system_libs = ["pthread"]
        self.cpp_info.requires = ["liburing::liburing"]
        self.cpp_info.set_property("cmake_file_name", "polarway")
        self.cpp_info.set_property("cmake_target_name", "polarway::polarway")
        self.cpp_info.set_property("pkg_config_name", "polarway")
