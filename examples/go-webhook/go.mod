module example.com/result-gateway-webhook

go 1.19
