# What `cmake --install` installs and the Debian package (CPack DEB) ships: the binary; in a
# private folder (lib/fleetlog) the two libraries it opens there, the engine (the dashboard is
# inside it) and the client, and DuckDB's library, which the engine finds beside it; the
# example config, the systemd unit, the man page and the shell completions.
# Build the package with `cmake --build build --target package` (or `cpack` in build/).

set(pkg "${CMAKE_SOURCE_DIR}/packaging")
set(generated "${CMAKE_BINARY_DIR}/generated")

install(TARGETS fleetlog RUNTIME DESTINATION bin)
install(TARGETS fleetlog_engine fleetlog_client LIBRARY DESTINATION "${FLEETLOG_PRIVATE_LIBDIR}")
# DuckDB's library under the SONAME the engine records (libduckdb.so), in lib/fleetlog only, with
# its symbol table stripped as Debian ships libraries (CPack strips only targets it built).
add_custom_command(OUTPUT "${generated}/lib/libduckdb.so"
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${generated}/lib"
  COMMAND "${CMAKE_STRIP}" --strip-unneeded --remove-section=.comment --remove-section=.note
          -o "${generated}/lib/libduckdb.so" "${DUCKDB_LIBRARY}"
  DEPENDS "${DUCKDB_LIBRARY}" COMMENT "Stripping libduckdb.so for the package" VERBATIM)
add_custom_target(fleetlog_duckdb_stripped ALL DEPENDS "${generated}/lib/libduckdb.so")
install(FILES "${generated}/lib/libduckdb.so" DESTINATION "${FLEETLOG_PRIVATE_LIBDIR}"
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES "${generated}/docs/fleetlog.1.gz" DESTINATION share/man/man1)
install(FILES "${generated}/docs/fleetlog.bash" DESTINATION share/bash-completion/completions RENAME fleetlog)
install(FILES "${generated}/docs/_fleetlog" DESTINATION share/zsh/vendor-completions)
install(FILES "${pkg}/copyright" "${generated}/changelog.gz" DESTINATION share/doc/fleetlog)

# The config and the unit go where Debian puts them, whatever the prefix; the unit runs
# /usr/bin/fleetlog, so the prefix defaults to /usr (see CMakeLists.txt). Stage elsewhere with
# DESTDIR: `DESTDIR=/tmp/root cmake --install build`.
set(FLEETLOG_SYSCONFDIR "/etc/fleetlog")
set(FLEETLOG_UNITDIR "/lib/systemd/system")
install(FILES "${generated}/fleetlog.toml" DESTINATION "${FLEETLOG_SYSCONFDIR}"
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES "${pkg}/fleetlog.service" DESTINATION "${FLEETLOG_UNITDIR}")

# The packaged config: `fleetlog init` for the service's folders, so it has every section.
add_custom_command(TARGET fleetlog POST_BUILD
  COMMAND sh -c "\"$0\" init --stdout --lake /var/lib/fleetlog/lake --state-dir /var/lib/fleetlog > \"$1\""
          "$<TARGET_FILE:fleetlog>" "${generated}/fleetlog.toml"
  COMMAND sh -c "gzip -9nc \"$0\" > \"$1\"" "${pkg}/changelog" "${generated}/changelog.gz"
  VERBATIM)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "fleetlog")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "fleetlog maintainers <fleetlog@example.org>")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps the query logs of a warehouse fleet in an open data lake")
set(CPACK_PACKAGE_DESCRIPTION_FILE "${pkg}/description.txt")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "database")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/fleetlog/fleetlog")
# Runtime dependencies from Debian's own packages, found by dpkg-shlibdeps (libpq5,
# libsqlite3-0, libsodium23, libssl3, libsystemd0, libstdc++6, libc6, ...); DuckDB is private.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
get_filename_component(duckdb_libdir "${DUCKDB_LIBRARY}" DIRECTORY)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${duckdb_libdir}")  # the same file as usr/lib/fleetlog's
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")  # useradd, for the service's user
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${pkg}/conffiles;${pkg}/postinst;${pkg}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
