// The Asio headers every transport file uses. Boost 1.74's awaitable.hpp uses
// std::exchange without including <utility>, so it must come first.
#pragma once

#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace plugbox::transport {

namespace asio = boost::asio;
using Executor = asio::any_io_executor;
template <class T>
using Awaitable = asio::awaitable<T>;

}  // namespace plugbox::transport
