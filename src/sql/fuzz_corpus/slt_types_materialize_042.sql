SELECT right('hello', -2147483648), right('hello', -2147483647), left('hello', -2147483648), right('hello', -2)
