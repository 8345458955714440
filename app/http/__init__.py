"""The shared HTTP layer every role uses: the JWT principal and `requires`, error responses in
one shape, the endpoint decorator that feeds OpenAPI, and the common schemas. Role packages
(api/, bot/, analytics/) import these from here, never from each other."""
