Bmaskj
location/etc/passwdp