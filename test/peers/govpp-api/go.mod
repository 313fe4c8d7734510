module vpp-exporter/test/peers/govpp-api

go 1.24.0

require (
	github.com/sirupsen/logrus v1.9.3
	go.fd.io/govpp v0.13.0
)

require (
	github.com/bennyscetbun/jsongo v1.1.2 // indirect
	github.com/fsnotify/fsnotify v1.9.0 // indirect
	github.com/lunixbochs/struc v0.0.0-20200521075829-a4cb8d33dbbe // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	golang.org/x/sys v0.35.0 // indirect
	golang.org/x/text v0.29.0 // indirect
)
