# The .deb (scripts/package.sh runs cpack -G DEB on a Release tree with
# prefix /usr). CPack, not debian/ + dpkg-buildpackage: the package holds
# exactly what `cmake --install` lays out (one file list, checked by
# install_layout), and nothing beyond dpkg-dev is needed to build it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sriov-agent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "sriov-agent maintainers <maintainers@users.noreply.h-seed-d6b901eb.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SR-IOV management agent for edge nodes (EVE domainmgr style)")
# CPack puts the summary first and indents these lines.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "sriov-agent reads the device model and app config a controller pushes
(protobuf, wire-compatible with the LF Edge EVE API), creates the VFs of
each SR-IOV NIC, sets their MAC, VLAN and other attributes through
rtnetlink, reserves VFs per app and binds them to vfio-pci or xen-pciback,
and writes a QEMU or xl domain config per app. sriovctl shows VFs and
reservations. Includes a systemd unit and a GRUB fragment that turns the
IOMMU on.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/lf-edge/eve")
# Depends: from the shared libraries the binaries link (dpkg-shlibdeps),
# plus libsystemd0, which sriov-agent loads at run time (dlopen, when
# $NOTIFY_SOCKET is set) instead of linking it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(LIBSYSTEMD_FOUND)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libsystemd0")
endif()
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/conffiles
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/postinst
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/prerm
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/postrm)
include(CPack)
