module example.com/result-gateway-client

go 1.19
