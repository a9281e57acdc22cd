#!/bin/sh
# One monitor, one in-memory OSD, one RGW on :7480, auth off inside the cluster, one S3 user from the
# environment (S3_ACCESS_KEY, S3_SECRET_KEY); the same layout as tests/support/s3.ts.
set -eu
root=/var/lib/recondo-rgw
mkdir -p $root/mon $root/osd/ceph-0 $root/run $root/log
fsid=$(cat /proc/sys/kernel/random/uuid)
cat > $root/ceph.conf <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:3300]
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon max pg per osd = 1000
osd crush chooseleaf type = 0
run dir = $root/run
log file = $root/log/\$name.log
mon data = $root/mon/\$cluster-\$id
osd data = $root/osd/\$cluster-\$id
keyring = $root/keyring
[client.rgw]
rgw frontends = beast endpoint=0.0.0.0:${RGW_PORT:-7480}
CONF
conf=$root/ceph.conf
ceph-authtool --create-keyring $root/keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --addv a "[v2:127.0.0.1:3300]" --fsid "$fsid" $root/monmap >/dev/null
ceph-mon -c $conf --mkfs -i a --monmap $root/monmap --keyring $root/keyring
ceph-mon -c $conf -i a
ceph -c $conf --connect-timeout 30 osd create >/dev/null
ceph-osd -c $conf -i 0 --mkfs >/dev/null 2>&1
ceph-osd -c $conf -i 0
radosgw -c $conf -n client.rgw
until radosgw-admin -c $conf -n client.admin user info --uid=recondo >/dev/null 2>&1 ||
  radosgw-admin -c $conf -n client.admin user create --uid=recondo --display-name=recondo \
    --access-key="$S3_ACCESS_KEY" --secret="$S3_SECRET_KEY" >/dev/null 2>&1; do sleep 1; done
echo "rgw: S3 on :${RGW_PORT:-7480}"
exec tail -F $root/log/client.rgw.log
