install -d @@WEBROOT@@
rm -f /etc/nginx/sites-enabled/default
ln -sfn ../sites-available/studyhost-default.conf /etc/nginx/sites-enabled/studyhost-default.conf
@@ENABLE_HOLDING@@
nginx -t -q
systemctl enable nginx.service
systemctl reload-or-restart nginx.service
